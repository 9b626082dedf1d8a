"""Where the time of a round goes (issue 22, part 2): time in stage, escalations, returns, objections and on-time
rates from the journal (`queries`), figured by domain/stage_times.py (`service`); `schemas` are what the front
doors return."""
