"""fake_cursor_sim."""
