"""Identity: who is calling — principals, keys, tokens and the delegation chain."""
