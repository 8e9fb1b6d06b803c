"""The modelfleet benchmark: `make bench` (`python -m bench`) writes bench/RESULTS.md."""
