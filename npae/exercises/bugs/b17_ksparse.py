"""The k-sparse autoencoder's code (compare npae.models.ksparse)."""
from ...models import KSparseAutoencoder as _KSparseAutoencoder


class KSparseAutoencoder(_KSparseAutoencoder):
    def _encode_backward(self, dz):
        return self.encoder_.backward(dz)
