"""The rules of recognition: pure Python and pydantic, no IO, no clock (time is a parameter)."""
