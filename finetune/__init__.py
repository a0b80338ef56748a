"""Fine-tuning: dataset builders, LoRA training, intent-classifier training (see its README)."""
