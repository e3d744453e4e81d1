"""The built-in demo provider: answers deterministically with no network and no key."""
