"""Registered pipeline components, one module each."""
