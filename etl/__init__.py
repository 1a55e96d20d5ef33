"""iga-pipeline: INDH income-generating-activity projects, from provincial sheets to a national warehouse."""
