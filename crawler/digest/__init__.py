"""The editors' morning: digest.txt / digest.html and full-text archive search."""
