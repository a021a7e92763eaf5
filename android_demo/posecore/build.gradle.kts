// Pure Kotlin/JVM: the app's maths, tested against the Python golden files (../golden) without a device.
plugins {
    alias(libs.plugins.kotlin.jvm)
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    compileOnly(libs.json) // Android ships org.json; the JVM tests bring their own
    testImplementation(libs.json)
    testImplementation(libs.junit.jupiter)
}

tasks.test {
    useJUnitPlatform()
    systemProperty("mhp.golden", providers.gradleProperty("mhp.golden").getOrElse(rootDir.resolve("../golden").path))
}
