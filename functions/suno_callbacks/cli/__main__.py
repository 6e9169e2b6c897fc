from suno_callbacks.cli.commands import main

raise SystemExit(main())
