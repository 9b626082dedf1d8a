"""Cases as the read model holds them (stage, outcome, verdict, scores, tasks, journal), their timelines, and
withdrawing a case from its round."""
