"""The comment box of each product page on the shop's own website."""
