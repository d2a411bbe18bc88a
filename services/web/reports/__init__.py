"""The supervisor's reports: analytics' figures as charts and tables, each number a link to its tickets."""
