"""The pure core: plain synchronous code fed events and a clock, returning decisions."""
