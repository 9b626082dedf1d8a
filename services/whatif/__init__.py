"""Policy what-if (domain/whatif.py): the recorded council scores of a round's closed cases under a draft rule set,
read from the read model (`queries`), for the provinces' readers and the ministry (`service`); `schemas` are what the
front doors return. Nothing is written."""
