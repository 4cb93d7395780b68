// The README's data-parallel snippet, as written there (keep the two in step): trained on two
// ranks in one process, every rank ends with the same accuracy, and it has learned.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/distributed.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
namespace opt = descent::optim;
namespace distributed = descent::distributed;

namespace {

double train(distributed::Communicator& world) {
    dc::manual_seed(0);
    auto iris = data::iris();
    const dc::Tensor x = data::Standardizer().fit_transform(iris.features);
    // every rank draws the same order and takes its contiguous shard of each batch of 30 rows
    data::DataLoader loader(
        x, iris.labels,
        {.batch_size = 30, .seed = 1, .num_replicas = world.size(), .rank = world.rank()});
    nn::Sequential model{nn::Linear(4, 16), distributed::SyncBatchNorm(world, 16), nn::ReLU(),
                         nn::Dropout(0.1), nn::Linear(16, 3)};
    distributed::DataParallel ddp(world, model);  // same shapes on every rank, rank 0's values
    opt::AdamW adamw(model.parameters(), {.lr = 0.05});
    std::uint64_t step = 0;
    for (int epoch = 0; epoch < 30; ++epoch) {
        for (auto& batch : loader) {
            const descent::SampleKeys keys(batch.indices, 1, step++);  // dropout keyed by sample
            // this shard's summed loss over the global batch's rows: the ranks' gradients add
            // up to the gradient of the global batch's mean loss
            const dc::Tensor loss =
                nn::cross_entropy(model(batch.x), batch.y, {.reduction = nn::Reduction::sum}) /
                static_cast<double>(batch.global_rows);
            adamw.zero_grad();
            loss.backward();
            ddp.reduce_gradients();  // Σ over ranks, in rank order
            adamw.step();            // the same update on every rank
        }
    }
    model.eval();
    return data::accuracy(model(x), iris.labels);
}

}  // namespace

TEST_CASE("README: data-parallel training on two ranks", "[readme][dist]") {
    std::vector<double> accuracy(2);
    distributed::run_local(2, [&](distributed::Communicator& world) {
        accuracy[static_cast<std::size_t>(world.rank())] = train(world);
    });
    CHECK(accuracy[0] == accuracy[1]);
    CHECK(accuracy[0] > 0.9);
    std::vector<double> one(1);
    distributed::run_local(1, [&](distributed::Communicator& world) { one[0] = train(world); });
    CHECK(one[0] > 0.9);
}
