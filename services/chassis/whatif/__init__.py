"""What-if replays: a tenant's own history run again through candidate rules in a sandbox, with a
report of what would have differed. Nothing here touches a live store or topic."""
