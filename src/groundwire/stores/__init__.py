"""Storage adapters. ``base`` holds the Protocol every store implements."""
