"""Training the ``ml`` extra's classifier head."""
