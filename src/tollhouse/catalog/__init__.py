"""The model catalog: context windows, output limits, prices and capabilities per provider model."""
