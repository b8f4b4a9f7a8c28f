"""The contractive autoencoder's penalty gradient (compare npae.models.contractive)."""
from ...models import ContractiveAutoencoder as _ContractiveAutoencoder


class ContractiveAutoencoder(_ContractiveAutoencoder):
    def _penalties_backward(self, dz):
        weight = dz.dtype.type(self.contractive_weight)
        dh, _ = self.penalty_.backward()
        return dz + weight * dh
