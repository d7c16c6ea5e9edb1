"""Zalo Official Account: Vietnam's first messaging app, a first-class channel."""
