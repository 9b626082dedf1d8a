"""Officials' tasks: the inbox (filters, due-time order, keyset pages), one task with the form it expects, and
completing a task (a Temporal Update, validated by the case workflow)."""
