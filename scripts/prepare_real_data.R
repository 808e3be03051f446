# Turns the packaged R data sets into the CSV casts mtif reads (called by
# scripts/fetch_data.sh; base R only, no R packages needed).
#
# Usage: Rscript prepare_real_data.R BAYESM_DATA_DIR MLMREV_DATA_DIR OUT_DIR SEEDS
#   BAYESM_DATA_DIR  folder holding orangeJuice.rda (from the r-cran-bayesm .deb)
#   MLMREV_DATA_DIR  folder holding the lazy-load database Rdata.rdb/.rdx (r-cran-mlmrev)
#   OUT_DIR          where <cast>/seed<s>/{train,valid,test}.csv go
#   SEEDS            comma-separated split seeds, e.g. 1,2,3,4,5
#
# Preprocessing (the same for every cast, so numbers are comparable):
#   * split: inside every task, rows are shuffled with set.seed(seed) and cut
#     60% train / 20% valid / 20% test (floor for train and valid), so every task
#     has rows in every split;
#   * features: standardised with the mean and standard deviation of the TRAIN
#     rows only (all tasks pooled); valid/test use the train statistics;
#   * target: centred by the mean of the train rows only (the model has no
#     unpenalised intercept, so an uncentred target would be shrunk to 0).
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 4) stop("usage: prepare_real_data.R BAYESM_DATA MLMREV_DATA OUT_DIR SEEDS")
bayesm_dir <- args[1]; mlmrev_dir <- args[2]; out_dir <- args[3]
seeds <- as.integer(strsplit(args[4], ",")[[1]])

split_rows <- function(task, seed) {
  set.seed(seed)
  part <- character(length(task))
  for (k in unique(task)) {
    idx <- which(task == k)
    idx <- idx[sample.int(length(idx))]
    n_train <- floor(0.6 * length(idx)); n_valid <- floor(0.2 * length(idx))
    part[idx[seq_len(n_train)]] <- "train"
    part[idx[n_train + seq_len(n_valid)]] <- "valid"
    part[idx[(n_train + n_valid + 1):length(idx)]] <- "test"
  }
  part
}

# Writes one cast: data frame with columns task, y and the features.
write_cast <- function(df, features, cast, note) {
  for (seed in seeds) {
    part <- split_rows(df$task, seed)
    train <- part == "train"
    out <- df[, c("task", "y", features)]
    for (f in features) {
      m <- mean(df[train, f]); s <- sd(df[train, f])
      if (!is.finite(s) || s == 0) s <- 1
      out[[f]] <- (df[[f]] - m) / s
    }
    out$y <- df$y - mean(df$y[train])
    dir <- file.path(out_dir, cast, paste0("seed", seed))
    dir.create(dir, recursive = TRUE, showWarnings = FALSE)
    for (p in c("train", "valid", "test")) {
      write.csv(format(out[part == p, ], digits = 10, trim = TRUE), file.path(dir, paste0(p, ".csv")),
                row.names = FALSE, quote = FALSE)
    }
  }
  writeLines(c(note, sprintf("tasks: %d; rows: %d; features: %s; split seeds: %s",
                             length(unique(df$task)), nrow(df), paste(features, collapse = ","),
                             paste(seeds, collapse = ","))),
             file.path(out_dir, cast, "PREPROCESSING"))
}

# Orange juice (bayesm::orangeJuice$yx): target logmove, features the 11 log
# prices, deal, feat. Tasks = brands (11) or stores (83).
e <- new.env()
load(file.path(bayesm_dir, "orangeJuice.rda"), envir = e)
yx <- e$orangeJuice$yx
oj <- data.frame(y = yx$logmove)
prices <- paste0("logprice", 1:11)
for (i in 1:11) oj[[prices[i]]] <- log(yx[[paste0("price", i)]])
oj$deal <- yx$deal; oj$feat <- yx$feat
oj_features <- c(prices, "deal", "feat")
oj$task <- paste0("brand", yx$brand)
write_cast(oj, oj_features, "oj-brands",
           "bayesm::orangeJuice$yx; task = brand; y = logmove (centred on train); features = log(price1..11), deal, feat (standardised on train)")
oj$task <- paste0("store", yx$store)
write_cast(oj, oj_features, "oj-stores",
           "bayesm::orangeJuice$yx; task = store; y = logmove (centred on train); features = log(price1..11), deal, feat (standardised on train)")

# A-level Chemistry 1997 (mlmRev::Chem97): target score (0-10), features
# gender (F = 1), age (months, centred), gcsescore. Tasks = education
# authorities (lea): chem97 keeps those with at least 200 students (stable
# per-task fits); chem97-all keeps all 131 (the scale the subset timing is for).
m <- new.env()
lazyLoad(file.path(mlmrev_dir, "Rdata"), envir = m)
ch <- m$Chem97
chem_frame <- function(ch) {
  data.frame(task = paste0("lea", as.character(ch$lea)), y = ch$score,
             female = as.numeric(ch$gender == "F"), age = ch$age, gcsescore = ch$gcsescore)
}
chem_features <- c("female", "age", "gcsescore")
counts <- table(ch$lea)
keep <- ch$lea %in% names(counts)[counts >= 200]
write_cast(chem_frame(ch[keep, ]), chem_features, "chem97",
           "mlmRev::Chem97, education authorities (lea) with >= 200 students; y = score (centred on train); features = female (0/1), age, gcsescore (standardised on train)")
write_cast(chem_frame(ch), chem_features, "chem97-all",
           "mlmRev::Chem97, all education authorities (lea); y = score (centred on train); features = female (0/1), age, gcsescore (standardised on train)")
