"""Tests of terraform/, CFN/ and the state machine: parsed, cross-checked with the configs, scanned by checkov."""
