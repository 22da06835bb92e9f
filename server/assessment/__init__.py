"""Assessment (考核): scoring a round, ranking units within their groups, placing them in tiers."""
