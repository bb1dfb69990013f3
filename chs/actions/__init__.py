"""One library entry point per command, each returning a typed, JSON-ready result:
`score`, `diff`, `check`, `explain`, `report`, `history`. Only the CLI (and the `chs`
facade) imports them; they never print, exit or name a command-line flag."""
