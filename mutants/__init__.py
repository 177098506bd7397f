"""Mutation testing of infra/ (`python -m mutants`); the report and the survivors explained."""
