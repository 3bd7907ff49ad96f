"""Keras layers of our own, registered so a saved `.keras` model loads with Keras's safe mode on.
Imported only where Keras is wanted."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="advisor")
class SeriesInput(keras.layers.Layer):
    """(batch, steps, channels + 1) -> standardised values (batch, steps, channels) and a Keras mask.

    The last input channel is 1 on real steps and 0 on padding (advisor/sequences.py); it becomes
    the mask the recurrent layers skip. Channels are standardised with the training series' mean and
    spread, stored in the layer's config, so the exported model carries them; a gap (NaN) reads as
    the mean."""

    def __init__(self, mean, std, **kwargs):
        super().__init__(**kwargs)
        self.mean = [float(v) for v in mean]
        self.std = [float(v) for v in std]
        self.supports_masking = True

    def call(self, inputs):
        values = (inputs[..., :-1] - ops.convert_to_tensor(self.mean)) / ops.convert_to_tensor(self.std)
        values = ops.where(ops.isnan(values), ops.zeros_like(values), values)
        return values * inputs[..., -1:]

    def compute_mask(self, inputs, mask=None):
        return ops.greater(inputs[..., -1], 0.5)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] - 1)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "std": self.std}
