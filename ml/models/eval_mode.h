#pragma once
// Eval mode for a scope: a module in training mode is put in eval mode and back in training mode
// when the scope ends, however it ends. A module already in eval mode is not written to, so
// several threads may run it at once inside such scopes.

#include <torch/nn/module.h>

namespace mp {

class EvalModeScope {
public:
    explicit EvalModeScope(torch::nn::Module &module)
        : m_module(module), m_wasTraining(module.is_training())
    {
        if (m_wasTraining)
            m_module.eval();
    }
    ~EvalModeScope()
    {
        if (m_wasTraining)
            m_module.train(true);
    }
    EvalModeScope(const EvalModeScope &) = delete;
    EvalModeScope &operator=(const EvalModeScope &) = delete;

private:
    torch::nn::Module &m_module;
    bool m_wasTraining;
};

} // namespace mp
