"""Rule packs, one module per standard; importing a module registers its rules."""
