"""Discrete-event simulation of the contact centre through the real routing core."""
