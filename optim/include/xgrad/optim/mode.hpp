// Whether a smaller or a larger monitored value is better (ReduceLROnPlateau, Convergence).
#pragma once

namespace xgrad::optim {

enum class Mode { min, max };

}  // namespace xgrad::optim
