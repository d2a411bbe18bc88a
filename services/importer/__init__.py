"""Moving in from another desk (issue 25): Request Tracker 5 through its REST2 API, and CSV exports."""
