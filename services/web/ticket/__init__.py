"""What an agent does on a ticket beyond replying and moving its status: merge it, link it, split a
message off, escalate it, edit its tags and custom fields; and what the page shows of those relations."""
