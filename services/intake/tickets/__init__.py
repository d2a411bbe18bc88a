"""The Ticket aggregate, its application, reactions, publication and projections."""
