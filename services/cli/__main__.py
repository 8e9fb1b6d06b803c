"""`python -m services.cli ...` is the `modelfleet` command."""

from .main import main

raise SystemExit(main())
