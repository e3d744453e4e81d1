"""The checkpoint: an ordered chain of small policies every call passes, in and out."""
