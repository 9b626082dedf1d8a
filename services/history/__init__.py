"""Past rounds and the 2025 merger lineage: import, lineage, the history a commendation check reads."""
