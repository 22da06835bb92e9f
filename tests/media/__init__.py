"""Tests of the pure photo library ``media``."""
