"""The qtrader command-line application: the composition root."""
