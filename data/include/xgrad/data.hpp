// The data module: datasets, batching, file loaders (IDX/MNIST, CSV) and feature scaling.
#pragma once
#include <xgrad/data/csv.hpp>
#include <xgrad/data/dataloader.hpp>
#include <xgrad/data/dataset.hpp>
#include <xgrad/data/idx.hpp>
#include <xgrad/data/normalize.hpp>
