//! The training study's pieces: the shipped data, the split, the shifts, training, the
//! summaries, and the shift study on a tiny configuration.

use normshift_candle::study::*;

#[test]
fn shipped_digits_parse_with_every_class_and_scaled_pixels() {
    let d = parse_digits(DIGITS_CSV).unwrap();
    assert_eq!(d.len(), 1797);
    assert_eq!(d.features, 64);
    assert_eq!(d.x.len(), 1797 * 64);
    let mut per_class = [0usize; 10];
    for &y in &d.y {
        per_class[y as usize] += 1;
    }
    // The UCI test set's class counts (174 to 183 images per digit).
    assert!(
        per_class.iter().all(|&n| (174..=183).contains(&n)),
        "{per_class:?}"
    );
    assert!(d.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
    // The first image of the file (a zero): pixels 0 0 5 13 9 1 0 0 …
    assert_eq!(d.y[0], 0);
    assert_eq!(&d.x[..4], &[0.0, 0.0, 5.0 / 16.0, 13.0 / 16.0]);
}

#[test]
fn bad_digits_text_names_line_and_column() {
    let header: String = (0..64).map(|i| format!("p{i},")).collect::<String>() + "digit";
    let row = |last: &str| format!("{}{last}", "0,".repeat(64));
    let cases = [
        (format!("{header}\n{}\n0,1", row("3")), "line 3: 2 fields"),
        (format!("{header}\n{}", row("10")), "line 2, column 65"),
        (
            format!("{header}\n17,{}", &row("1")[2..]),
            "line 2, column 1",
        ),
        (format!("{header}\n{}", row("x")), "\"x\""),
        ("a,b\n".to_string(), "line 1"),
    ];
    for (text, want) in cases {
        let err = parse_digits(&text).unwrap_err().to_string();
        assert!(err.contains(want), "{err} should contain {want}");
    }
}

#[test]
fn split_is_a_deterministic_partition() {
    let (train, test) = digits_split(500, 0).unwrap();
    assert_eq!((train.len(), test.len()), (1297, 500));
    let all = parse_digits(DIGITS_CSV).unwrap();
    // Same multiset of labels as the whole file.
    let mut labels: Vec<u32> = train.y.iter().chain(&test.y).copied().collect();
    let mut whole = all.y.clone();
    labels.sort_unstable();
    whole.sort_unstable();
    assert_eq!(labels, whole);
    assert_eq!(digits_split(500, 0).unwrap(), (train.clone(), test.clone()));
    assert_ne!(digits_split(500, 1).unwrap().1, test);
}

#[test]
fn shifts_do_what_they_say() {
    // Rows of all zeros and all ones reveal each pixel's offset and gain.
    let data = Dataset {
        x: [vec![0.0f32; 64], vec![1.0f32; 64]].concat(),
        y: vec![0, 1],
        features: 64,
    };
    let s = Shift::Sensor { seed: 1 }.apply(&data);
    for j in 0..64 {
        let (offset, gain) = (s.x[j], s.x[64 + j] - s.x[j]);
        assert!((0.0..=0.5).contains(&offset), "pixel {j}: offset {offset}");
        assert!((0.5..=1.5).contains(&gain), "pixel {j}: gain {gain}");
    }
    assert_eq!(s.y, data.y);
    let image: Vec<f32> = (0..64).map(|v| v as f32).collect();
    let moved = Shift::MoveRight.apply(&Dataset {
        x: image,
        y: vec![3],
        features: 64,
    });
    assert_eq!(&moved.x[..8], &[0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(
        &moved.x[56..],
        &[0.0, 56.0, 57.0, 58.0, 59.0, 60.0, 61.0, 62.0]
    );
}

fn tiny(lr: f64, epochs: usize) -> TrainSpec {
    TrainSpec {
        lr,
        epochs,
        batch_size: 64,
        seed: 7,
        eval_every: 5,
        target_accuracy: 0.8,
    }
}

#[test]
fn training_learns_the_digits_and_reproduces_exactly() {
    let (train_set, test) = digits_split(500, 0).unwrap();
    let spec = NetSpec {
        conv: Vec::new(),
        hidden: vec![32],
        batch_norm: true,
        input_norm: false,
    };
    let run = |seed| {
        let model = Net::new(&spec, 64, 10, seed).unwrap();
        train(&model, &train_set, &test, &tiny(0.1, 3), true).unwrap()
    };
    let a = run(7);
    // Chance is 0.1; three epochs of SGD with batch norm get far past it.
    assert!(a.final_accuracy.unwrap() > 0.85, "{a:?}");
    assert!(
        a.test_accuracy[0] < 0.3,
        "untrained accuracy {}",
        a.test_accuracy[0]
    );
    assert!(a.diverged.is_none());
    let first = a.steps_to_target.unwrap();
    let i = a.steps.iter().position(|&s| s == first).unwrap();
    assert!(a.test_accuracy[i] >= 0.8 && (i == 0 || a.test_accuracy[i - 1] < 0.8));
    // 1297 rows in batches of 64: 21 steps per epoch (the last batch has 17 rows).
    assert_eq!(*a.steps.last().unwrap(), 63);
    // Bit for bit (the first loss is NaN, so compare the printed runs).
    assert_eq!(format!("{:?}", run(7)), format!("{a:?}"));
    assert_ne!(run(8).test_accuracy, a.test_accuracy);
}

#[test]
fn a_blown_up_run_is_reported_as_diverged() {
    let (train_set, test) = digits_split(500, 0).unwrap();
    let spec = NetSpec {
        conv: Vec::new(),
        hidden: vec![32],
        batch_norm: false,
        input_norm: false,
    };
    let model = Net::new(&spec, 64, 10, 0).unwrap();
    let run = train(&model, &train_set, &test, &tiny(1e30, 2), false).unwrap();
    let (step, why) = run.diverged.clone().expect("lr 1e30 must blow up");
    assert!(why.contains("loss") || why.contains("refused"), "{why}");
    assert!(step < 42);
    assert_eq!(run.final_accuracy, None);
    assert_eq!(final_or_chance(&run), 0.1);
}

#[test]
fn a_run_whose_evaluation_is_refused_is_reported_as_diverged() {
    // With batch norm and an absurd rate, one SGD step makes a gamma infinite: the training
    // loss of that step was finite, and the evaluation that follows is refused by the layer.
    let (train_set, test) = digits_split(400, 0).unwrap();
    let spec = NetSpec {
        conv: Vec::new(),
        hidden: vec![16, 16],
        batch_norm: true,
        input_norm: false,
    };
    let model = Net::new(&spec, 64, 10, 0).unwrap();
    let spec = TrainSpec {
        eval_every: 1,
        batch_size: 32,
        ..tiny(1e39, 3)
    };
    let run = train(&model, &train_set, &test, &spec, true).unwrap();
    let (_, why) = run.diverged.clone().expect("lr 1e39 must blow up");
    assert!(why.contains("refused"), "{why}");
    assert_eq!(run.final_accuracy, None);
    // Every recorded step has its accuracy and loss.
    assert_eq!(run.steps.len(), run.test_accuracy.len());
    assert_eq!(run.steps.len(), run.train_loss.len());
}

fn fake(batch_norm: bool, lr: f64, acc: Option<f64>, steps: Option<usize>) -> Run {
    Run {
        lr,
        seed: 0,
        batch_norm,
        steps: vec![0],
        test_accuracy: vec![0.1],
        train_loss: vec![f64::NAN],
        final_accuracy: acc,
        steps_to_target: steps,
        diverged: acc.is_none().then(|| (3, "loss NaN".to_string())),
    }
}

#[test]
fn summaries_count_divergence_as_chance_and_take_medians() {
    let runs = vec![
        fake(false, 0.1, Some(0.9), Some(30)),
        fake(false, 0.1, None, None),
        fake(false, 0.1, Some(0.8), Some(50)),
        fake(true, 0.1, Some(0.95), Some(10)),
        fake(true, 0.1, Some(0.97), Some(20)),
    ];
    let s = summarize(&runs);
    assert_eq!(s.len(), 2);
    let plain = &s[0];
    assert!(!plain.batch_norm);
    assert_eq!(
        (plain.runs, plain.diverged, plain.reached_target),
        (3, 1, 2)
    );
    assert!((plain.mean_accuracy - (0.9 + 0.1 + 0.8) / 3.0).abs() < 1e-12);
    assert_eq!(plain.accuracy_range, (0.1, 0.9));
    assert_eq!(plain.median_steps_to_target, Some(40.0));
    assert_eq!(s[1].median_steps_to_target, Some(15.0));
    assert_eq!(s[1].diverged, 0);
}

#[test]
fn adabn_repairs_a_sensor_shift() {
    let (train_set, test) = digits_split(500, 0).unwrap();
    let spec = SweepSpec {
        lrs: vec![0.1],
        seeds: vec![0],
        conv: Vec::new(),
        hidden: vec![32],
        train: tiny(0.1, 3),
    };
    let out = shift_study(&spec, &[Shift::Sensor { seed: 1 }], &train_set, &test).unwrap();
    let acc = |shift: &str, approach: &str| {
        out.iter()
            .find(|o| o.shift == shift && o.approach == approach)
            .unwrap()
            .accuracy[0]
    };
    let clean = acc("none", NO_ADAPTATION);
    let sensor = Shift::Sensor { seed: 1 }.name();
    assert!(clean > 0.85);
    // Per-pixel gain and offset, undone by per-feature statistics of the deployment images.
    assert!((acc(sensor, ADABN) - clean).abs() < 0.05);
    assert!(acc(sensor, ADABN) > acc(sensor, NO_ADAPTATION) + 0.2);
    assert!(acc(sensor, RETRAINED) > 0.85);
    assert_eq!(out.len(), 2 + 4);
}

#[test]
fn a_small_convolutional_network_trains_with_batch_norm_in_its_conv_blocks() {
    let (train_set, test) = digits_split(500, 0).unwrap();
    let spec = NetSpec {
        conv: vec![4, 8],
        hidden: Vec::new(),
        batch_norm: true,
        input_norm: false,
    };
    let model = Net::new(&spec, 64, 10, 0).unwrap();
    // Two conv blocks with batch norm: two BatchNorm2d layers over 4 and 8 channels.
    let channels: Vec<usize> = model
        .batch_norms()
        .iter()
        .map(|b| b.config().num_features)
        .collect();
    assert_eq!(channels, [4, 8]);
    let run = train(&model, &train_set, &test, &tiny(0.1, 2), true).unwrap();
    assert!(run.final_accuracy.unwrap() > 0.7, "{run:?}");
    // Running statistics moved away from their initial 0 / 1.
    let stats = model.batch_norms()[0].running_stats().unwrap();
    assert!(
        stats.running_mean.iter().any(|&m| m.abs() > 1e-3),
        "{stats:?}"
    );
    assert_eq!(stats.num_batches_tracked, 42);
    let err = Net::new(&spec, 63, 10, 0).err().unwrap().to_string();
    assert!(err.contains("square image, got 63 inputs"), "{err}");
}
