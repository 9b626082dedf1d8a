"""The report each province sends the ministry when its round closes, and the national report the ministry reads."""
