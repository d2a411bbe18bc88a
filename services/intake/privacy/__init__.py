"""Personal data sealed per person, and search without keeping the words."""
