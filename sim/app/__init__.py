"""The scenario explorer in the browser (`sim app`): Solara pages over the same runs as `sim run`."""
