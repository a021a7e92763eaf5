plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
}

// The exported models the app bundles: `<stem>.tflite` and its manifest `<stem>.tflite.json`, exactly the names
// `mhp-export` writes (mhp.export.pipeline.artifact_name). Override with -Pmhp.export=DIR -Pmhp.models=a,b.
val mhpExport: String = providers.gradleProperty("mhp.export").getOrElse(rootDir.resolve("../runs/quickstart/export").path)
val mhpModels: List<String> = providers.gradleProperty("mhp.models").getOrElse("lpski_int8,lpski_fp32").split(",").map { it.trim() }
// The person detector: MediaPipe's pose_detection.tflite, which `make detector` unpacks into the repository's
// .venv/share/mhp. Override the folder with -Pmhp.detector=DIR, or build without it with -Pmhp.detector=none (the app
// then follows one person from a centred box and says so).
val mhpDetectorFile = "pose_detection.tflite"
val mhpDetector: String = providers.gradleProperty("mhp.detector").getOrElse(rootDir.resolve("../.venv/share/mhp").path)
val mhpAssets = layout.buildDirectory.dir("generated/mhp-assets")

val copyMhpModels by tasks.registering(Sync::class) {
    description = "Copies the exported .tflite models, their manifests and the person detector into the app's assets; fails when one is missing."
    val folder = file(mhpExport)
    val names = mhpModels.flatMap { listOf("$it.tflite", "$it.tflite.json") }
    val detector = if (mhpDetector == "none") null else file(mhpDetector)
    doFirst {
        val missing = names.filterNot { folder.resolve(it).isFile }
        if (missing.isNotEmpty()) {
            throw GradleException(
                "mhp models missing in $folder: ${missing.joinToString()}. Export them first " +
                    "(make quickstart, or mhp-export --checkpoint best.pt --target tflite --int8) " +
                    "or point -Pmhp.export=DIR / -Pmhp.models=STEMS at yours.",
            )
        }
        if (detector != null && !detector.resolve(mhpDetectorFile).isFile) {
            throw GradleException(
                "the person detector $mhpDetectorFile is missing in $detector: run make detector in the repository " +
                    "(it unpacks it from the mediapipe wheel), point -Pmhp.detector=DIR at it, or build without it with -Pmhp.detector=none.",
            )
        }
    }
    from(folder) { include(names) }
    if (detector != null) from(detector) { include(mhpDetectorFile) }
    into(mhpAssets)
}

// The instrumented golden test reads a golden folder written with a real run of the bundled INT8 model:
// mhp-export --golden DIR --golden-from EXPORT/lpski_int8.tflite, then -Pmhp.golden=DIR.
val mhpGolden: String? = providers.gradleProperty("mhp.golden").orNull
val copyMhpGolden by tasks.registering(Copy::class) {
    description = "Copies the golden files with a real LiteRT run into the instrumented tests' assets."
    doFirst {
        val manifest = mhpGolden?.let { file(it).resolve("manifest.json") }
        if (manifest == null || !manifest.isFile) {
            throw GradleException("pass -Pmhp.golden=DIR written by mhp-export --golden DIR --golden-from lpski_int8.tflite (no manifest.json at ${manifest ?: "(unset)"})")
        }
    }
    from(mhpGolden ?: "missing") { into("golden") }
    into(layout.buildDirectory.dir("generated/mhp-golden"))
}

android {
    namespace = "mhp.demo"
    compileSdk = 36

    defaultConfig {
        applicationId = "mhp.demo"
        minSdk = 26
        targetSdk = 36
        versionCode = 1
        versionName = "0.1.0"
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
    }

    androidResources {
        noCompress += "tflite" // memory-mapped straight from the APK
    }

    sourceSets {
        getByName("main").assets.srcDir(mhpAssets)
        getByName("androidTest").assets.srcDir(layout.buildDirectory.dir("generated/mhp-golden"))
    }

    buildTypes {
        release {
            isMinifyEnabled = false
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    buildFeatures {
        buildConfig = true
    }
}

kotlin {
    jvmToolchain(17)
}

tasks.named("preBuild") { dependsOn(copyMhpModels) }
tasks.matching { it.name == "mergeDebugAndroidTestAssets" }.configureEach { dependsOn(copyMhpGolden) }

dependencies {
    implementation(project(":posecore"))
    implementation(libs.litert)
    implementation(libs.litert.gpu)
    implementation(libs.litert.gpu.api)
    implementation(libs.camera.core)
    implementation(libs.camera.camera2)
    implementation(libs.camera.lifecycle)
    implementation(libs.camera.view)
    implementation(libs.appcompat)
    implementation(libs.core.ktx)
    androidTestImplementation(libs.androidx.test.runner)
    androidTestImplementation(libs.androidx.test.junit)
}
