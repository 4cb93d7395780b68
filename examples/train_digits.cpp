// The flagship training run: an MLP learns to read 8×8 handwritten digits (UCI, data/), with the
// lecture's tools together — standardised features, shuffled mini-batches, BatchNorm and
// dropout, AdamW (decoupled weight decay, none on biases and norms) inside Lookahead, a linear
// warm-up into cosine decay, and gradient clipping. It prints loss and accuracy per epoch,
// writes the loss after every update as CSV (to see training), and saves a checkpoint.

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace dc = descent;
namespace nn = descent::nn;
namespace opt = descent::optim;

namespace {

/// Reads the digits CSV: 64 pixel values then the label on each line.
std::pair<dc::Tensor, dc::Tensor> read_digits(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw dc::Error("train_digits: cannot open " + path);
    std::vector<double> pixels;
    std::vector<std::int64_t> labels;
    std::string line;
    while (std::getline(in, line)) {
        std::stringstream fields(line);
        std::string field;
        std::vector<double> row;
        while (std::getline(fields, field, ',')) row.push_back(std::stod(field));
        if (row.size() != 65)
            throw dc::Error("train_digits: expected 65 fields per line in " + path);
        pixels.insert(pixels.end(), row.begin(), row.end() - 1);
        labels.push_back(static_cast<std::int64_t>(row.back()));
    }
    const auto n = static_cast<std::int64_t>(labels.size());
    return {dc::tensor(pixels, {n, 64}), dc::int_tensor(labels, {n})};
}

double accuracy(nn::Module& model, const dc::Tensor& x, const dc::Tensor& y) {
    const dc::NoGradGuard no_grad;
    const dc::Tensor predicted = dc::argmax(model(x), 1);
    return dc::eq(predicted, y).to(dc::float64).mean().item();
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Train an MLP on the UCI handwritten digits with descent."};
    std::string data = DESCENT_DATA_DIR "/digits.csv";
    std::string curve = "digits_loss.csv", checkpoint = "digits_mlp.safetensors";
    int epochs = 40;
    std::uint64_t seed = 0;
    app.add_option("--data", data, "the digits CSV");
    app.add_option("--epochs", epochs, "passes over the training set")->check(CLI::PositiveNumber);
    app.add_option("--seed", seed, "seed of every random draw");
    app.add_option("--curve", curve, "CSV file for the loss after every update");
    app.add_option("--checkpoint", checkpoint, "where to save the trained model");
    CLI11_PARSE(app, argc, argv);

    dc::manual_seed(seed);
    auto [pixels, labels] = read_digits(data);
    const dc::Tensor order = dc::randperm(labels.numel());  // a seeded 80/20 split
    const std::int64_t n_train = labels.numel() * 4 / 5;
    const dc::Tensor train_rows = order.slice(0, 0, n_train),
                     test_rows = order.slice(0, n_train, labels.numel());
    nn::Standardizer scaler;  // fitted on the training rows only
    const dc::Tensor x_train = scaler.fit_transform(pixels.index_select(0, train_rows));
    const dc::Tensor x_test = scaler.transform(pixels.index_select(0, test_rows));
    const dc::Tensor y_train = labels.index_select(0, train_rows),
                     y_test = labels.index_select(0, test_rows);
    nn::DataLoader loader(x_train, y_train, {.batch_size = 64});

    nn::Sequential model{nn::Linear(64, 128), nn::BatchNorm1d(128), nn::ReLU(), nn::Dropout(0.2),
                         nn::Linear(128, 10)};
    const auto groups = opt::split_for_weight_decay(model.named_parameters());
    opt::AdamW adamw(groups.decay, {.lr = 3e-3, .weight_decay = 1e-2});
    adamw.add_param_group(groups.no_decay, {.lr = 3e-3, .weight_decay = 0.0});
    opt::Lookahead optimizer(adamw, {.k = 5, .alpha = 0.5});
    const std::int64_t total = epochs * loader.batches();
    opt::LRScheduler schedule(optimizer, opt::warmup(opt::cosine(total - 50), 50));

    std::ofstream curve_file(curve);
    curve_file << "step,loss,lr\n";
    fmt::print("{} training and {} test images, {} updates\n", y_train.numel(), y_test.numel(),
               total);
    std::int64_t step = 0;
    for (int epoch = 1; epoch <= epochs; ++epoch) {
        model.train();
        double loss_sum = 0.0;
        for (auto& [x, y] : loader) {
            const dc::Tensor loss = nn::cross_entropy(model(x), y, {.label_smoothing = 0.05});
            optimizer.zero_grad();
            loss.backward();
            opt::clip_grad_norm(model.parameters(), 5.0);
            const double lr = optimizer.param_groups()[0].lr();
            optimizer.step();
            schedule.step();
            curve_file << ++step << ',' << loss.item() << ',' << lr << '\n';
            loss_sum += loss.item();
        }
        model.eval();
        if (epoch == 1 || epoch % 5 == 0 || epoch == epochs) {
            fmt::print("epoch {:3d}  loss {:.4f}  train accuracy {:.4f}  test accuracy {:.4f}\n",
                       epoch, loss_sum / static_cast<double>(loader.batches()),
                       accuracy(model, x_train, y_train), accuracy(model, x_test, y_test));
        }
    }
    nn::save(model.state_dict(), checkpoint,
             {{"format", "pt"}, {"data", "UCI optdigits (CC BY 4.0)"}});
    fmt::print("loss curve: {}   checkpoint: {}\n", curve, checkpoint);
    return 0;
}
