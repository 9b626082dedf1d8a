"""The caller: who they are, the roles they hold, and their in-app notifications."""
