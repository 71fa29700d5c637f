"""What the model declares once and everything else reads: its outputs (the indicator catalogue,
``indicators.yaml``) and its inputs (the lever catalogue, ``levers.yaml``)."""
