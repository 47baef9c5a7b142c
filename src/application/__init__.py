"""Use cases, one class per verb, and the ports that only they need."""
