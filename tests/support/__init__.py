"""Test-support code (fakes and helpers) shared by the test suite."""
