"""Thin endpoints: decode, run the checkpoint, call the provider, encode."""
